-- What a planner needs per channel: historical spend, the transform parameters in
-- use and where the channel sits on its saturation curve.
select
    t.channel,
    m.currency_code,
    sum(t.spend) as total_spend,
    count(distinct t.week_start) as n_weeks,
    {{ safe_divide('sum(t.spend)', 'count(distinct t.week_start)') }} as mean_weekly_spend,
    {{ exact_mean('t.adstocked_spend') }} as mean_adstocked_spend,
    {{ exact_mean('t.saturated') }} as mean_saturation,
    min(t.alpha) as alpha,
    min(t.l_max) as l_max,
    min(t.half_saturation) as half_saturation,
    min(t.slope) as slope
from {{ ref('int_media_transforms') }} t
inner join {{ ref('media_performance') }} m on m.channel = t.channel
group by t.channel, m.currency_code
