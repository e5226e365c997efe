-- Delivery and platform-reported efficiency per channel over everything loaded.
select
    channel,
    min(currency_code) as currency_code,
    min(week_start) as first_week,
    max(week_start) as last_week,
    count(distinct week_start) as n_weeks,
    count(distinct geo) as n_geos,
    sum(spend) as spend,
    sum(impressions) as impressions,
    sum(clicks) as clicks,
    sum(conversions) as conversions,
    sum(conversions_value) as conversions_value,
    {{ safe_divide('1000.0 * sum(spend)', 'sum(impressions)') }} as cpm,
    {{ safe_divide('sum(spend)', 'sum(clicks)') }} as cpc,
    {{ safe_divide('sum(spend)', 'sum(conversions)') }} as cpa,
    {{ safe_divide('sum(conversions_value)', 'sum(spend)') }} as roas
from {{ ref('int_performance_agg') }}
group by channel
