-- Spend-share attribution of the KPI per channel (a baseline, not a causal estimate)
-- next to what the platforms report. Sums over exact decimals: the same data gives
-- the same table whatever the order rows are aggregated in.
select
    channel,
    sum(spend) as spend,
    {{ dbt.safe_cast('sum(' ~ dbt.safe_cast('attributed_kpi', type_exact()) ~ ')', type_double()) }} as attributed_kpi,
    {{ safe_divide(dbt.safe_cast('sum(' ~ dbt.safe_cast('attributed_kpi', type_exact()) ~ ')', type_double()), 'sum(spend)') }} as attributed_kpi_per_spend,
    sum(platform_conversions) as platform_conversions,
    sum(platform_conversions_value) as platform_conversions_value
from {{ ref('int_attribution') }}
group by channel
