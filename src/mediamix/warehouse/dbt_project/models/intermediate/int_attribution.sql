-- A naive top-down attribution, the baseline MMM results are compared with: the
-- week's KPI of a geo is split across channels in proportion to their spend that
-- week, beside the conversions the platforms themselves report.
with media as (
    select week_start, geo, channel, spend, conversions, conversions_value
    from {{ ref('int_performance_agg') }}
),

kpi as (
    select week_start, geo, sum(kpi_value) as kpi_value
    from {{ ref('stg_revenue') }}
    where kpi_name = '{{ mmm_kpi_name() }}'
    group by week_start, geo
),

shares as (
    select
        m.*,
        {{ safe_divide('m.spend', 'sum(m.spend) over (partition by m.week_start, m.geo)') }} as spend_share
    from media m
)

select
    s.week_start,
    s.geo,
    s.channel,
    s.spend,
    s.spend_share,
    s.spend_share * k.kpi_value as attributed_kpi,
    s.conversions as platform_conversions,
    s.conversions_value as platform_conversions_value
from shares s
left join kpi k on k.week_start = s.week_start and k.geo = s.geo
