-- The unified ad-reporting schema (Fivetran ad_reporting column names): one row per
-- day, platform, account, campaign and currency, summed over geos.
select
    date_day,
    platform,
    account_id,
    campaign_id,
    currency_code,
    min(channel) as channel,
    sum(spend) as spend,
    sum(clicks) as clicks,
    sum(impressions) as impressions,
    sum(conversions) as conversions,
    sum(conversions_value) as conversions_value
from {{ ref('stg_media_spend') }}
group by date_day, platform, account_id, campaign_id, currency_code
