-- Baseline drivers: controls (averaged over a week), organic media (summed) and
-- events (max), one row per (date_day, geo, factor_name).
with latest as (
    {{ latest_per_grain(source('raw', 'raw_controls'), ['r.date_day', 'r.geo', 'r.name']) }}
)

select
    cast(date_day as date) as date_day,
    {{ week_start('date_day') }} as week_start,
    geo,
    name as factor_name,
    kind as factor_kind,
    {{ dbt.safe_cast('value', dbt.type_numeric()) }} as factor_value,
    source,
    source_account,
    load_id
from latest
