# A simple media mix model written in R, run by mediamix as a model:
#
#   mediamix r-script examples/r-script/model.R examples/robyn-simulated-weekly/spec.yaml \
#       --out r-model
#
# mediamix calls `Rscript --vanilla model.R INPUT_DIR OUTPUT_DIR`. INPUT_DIR holds
# input.csv (date, KPI, one spend column per channel, controls, organic, events) and
# input.json (the roles of those columns). The script writes OUTPUT_DIR/curves.json
# (per channel: adstock, saturation and beta, in mediamix's transform names) and
# OUTPUT_DIR/decomposition.csv (date, one column per channel, baseline columns). The
# layout is documented in docs/r-scripts.md.
#
# The model: per channel a geometric adstock (alpha 0.5) and a Hill curve (slope 1,
# half-saturation at the mean adstocked spend of the periods with spend), then least
# squares of the KPI on an intercept, the controls, organic and event columns and the
# saturated media. Channels whose coefficient comes out negative are dropped and the
# rest refitted, so every media coefficient is >= 0. Needs R and jsonlite only.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: model.R INPUT_DIR OUTPUT_DIR")
input_dir <- args[1]
output_dir <- args[2]

meta <- jsonlite::fromJSON(file.path(input_dir, "input.json"))
data <- read.csv(file.path(input_dir, "input.csv"), check.names = FALSE,
                 stringsAsFactors = FALSE)
y <- data[[meta$kpi]]

adstock <- function(x, alpha) as.numeric(stats::filter(x, alpha, method = "recursive"))
hill <- function(x, k, s) ifelse(x > 0, x^s / (x^s + k^s), 0)

alpha <- 0.5
slope <- 1
H <- list()
curves <- list()
for (ch in meta$channels) {
  a <- adstock(data[[ch]], alpha)
  k <- if (any(a > 0)) mean(a[a > 0]) else 1
  H[[ch]] <- hill(a, k, slope)
  curves[[ch]] <- list(
    adstock = list(type = "geometric", alpha = alpha),
    saturation = list(type = "hill", half_saturation = k, slope = slope)
  )
}

baseline_vars <- c(meta$controls, meta$organic, meta$events)
media <- meta$channels
repeat {
  frame <- data.frame(y = y, check.names = FALSE)
  for (v in baseline_vars) frame[[v]] <- data[[v]]
  for (ch in media) frame[[ch]] <- H[[ch]]
  fit <- lm(y ~ ., data = frame)
  b <- coef(fit)
  names(b) <- gsub("`", "", names(b))
  b[is.na(b)] <- 0  # a constant column (an event that never happens) gets no effect
  negative <- media[b[media] < 0]
  if (length(negative) == 0) break
  media <- setdiff(media, negative)
}

decomposition <- data.frame(date = data$date, intercept = unname(b["(Intercept)"]),
                            check.names = FALSE)
for (v in baseline_vars) decomposition[[v]] <- b[[v]] * data[[v]]
for (ch in meta$channels) {
  beta <- if (ch %in% media) unname(b[[ch]]) else 0
  curves[[ch]]$beta <- beta
  decomposition[[ch]] <- beta * H[[ch]]
}

write.csv(decomposition, file.path(output_dir, "decomposition.csv"), row.names = FALSE)
jsonlite::write_json(list(channels = curves), file.path(output_dir, "curves.json"),
                     auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat(sprintf("fitted %d periods; media kept: %s\n", nrow(data), paste(media, collapse = ", ")))
