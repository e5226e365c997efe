-- Media rows of every source in the unified layout; one row per grain (the most
-- recent load wins when two sources cover the same grain).
with latest as (
    {{ latest_per_grain(source('raw', 'raw_ad_reporting'),
                        ['r.date_day', 'r.platform', 'r.account_id', 'r.campaign_id', 'r.channel', 'r.geo']) }}
)

select
    cast(date_day as date) as date_day,
    {{ week_start('date_day') }} as week_start,
    lower(platform) as platform,
    account_id,
    campaign_id,
    channel,
    geo,
    upper(currency_code) as currency_code,
    {{ dbt.safe_cast('spend', dbt.type_numeric()) }} as spend,
    {{ dbt.safe_cast('impressions', dbt.type_numeric()) }} as impressions,
    {{ dbt.safe_cast('clicks', dbt.type_numeric()) }} as clicks,
    {{ dbt.safe_cast('conversions', dbt.type_numeric()) }} as conversions,
    {{ dbt.safe_cast('conversions_value', dbt.type_numeric()) }} as conversions_value,
    source,
    source_account,
    load_id
from latest
