-- KPI per day (or period start) and geo, one row per (date_day, geo, kpi_name).
with latest as (
    {{ latest_per_grain(source('raw', 'raw_kpi'), ['r.date_day', 'r.geo', 'r.name']) }}
)

select
    cast(date_day as date) as date_day,
    {{ week_start('date_day') }} as week_start,
    geo,
    name as kpi_name,
    {{ dbt.safe_cast('value', dbt.type_numeric()) }} as kpi_value,
    source,
    source_account,
    load_id
from latest
