-- The modeling table: one row per (week_start, geo, channel) over the dense grid of
-- every week, geo and channel loaded, with the channel's spend, impressions and
-- clicks that week (0 spend where nothing was loaded), the week's KPI and one column
-- per baseline driver (controls averaged, organic media summed, events max).
{%- set factors = external_factors() %}
{%- set agg = {'control': 'avg', 'organic': 'sum', 'event': 'max'} %}

with weeks as (
    select week_start from {{ ref('int_performance_agg') }}
    union
    select week_start from {{ ref('stg_revenue') }}
),

geos as (
    select geo from {{ ref('int_performance_agg') }}
    union
    select geo from {{ ref('stg_revenue') }}
),

channels as (
    select distinct channel from {{ ref('int_performance_agg') }}
),

kpi as (
    select week_start, geo, sum(kpi_value) as kpi
    from {{ ref('stg_revenue') }}
    where kpi_name = '{{ mmm_kpi_name() }}'
    group by week_start, geo
),

factors as (
    select
        week_start,
        geo
        {%- for name, kind in factors %},
        {{ agg[kind] }}(case when factor_name = '{{ dbt.escape_single_quotes(name) }}' then factor_value end) as {{ adapter.quote(name) }}
        {%- endfor %}
    from {{ ref('stg_external_factors') }}
    group by week_start, geo
)

select
    w.week_start,
    g.geo,
    c.channel,
    coalesce(m.spend, 0.0) as spend,
    m.impressions,
    m.clicks,
    m.conversions,
    '{{ mmm_kpi_name() }}' as kpi_name,
    k.kpi
    {%- for name, kind in factors %},
    f.{{ adapter.quote(name) }}
    {%- endfor %}
from weeks w
cross join geos g
cross join channels c
left join {{ ref('int_performance_agg') }} m
    on m.week_start = w.week_start and m.geo = g.geo and m.channel = c.channel
left join kpi k on k.week_start = w.week_start and k.geo = g.geo
left join factors f on f.week_start = w.week_start and f.geo = g.geo
