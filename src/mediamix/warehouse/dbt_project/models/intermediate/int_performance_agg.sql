-- Weekly media per (week_start, geo, channel): sums over days, platforms, accounts
-- and campaigns. Metrics unknown for every row of a group stay null.
select
    week_start,
    geo,
    channel,
    min(currency_code) as currency_code,
    count(distinct currency_code) as n_currencies,
    sum(spend) as spend,
    sum(impressions) as impressions,
    sum(clicks) as clicks,
    sum(conversions) as conversions,
    sum(conversions_value) as conversions_value,
    count(*) as n_source_rows
from {{ ref('stg_media_spend') }}
group by week_start, geo, channel
