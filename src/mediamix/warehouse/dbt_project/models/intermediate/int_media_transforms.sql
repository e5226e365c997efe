-- Adstock and saturation of weekly spend, in SQL, for the parameters of the seed
-- media_transform_params (a row per channel; the row '__default__' fills the rest).
--
-- Adstock: PyMC-Marketing's finite-window geometric convention, as
-- mediamix.transforms.geometric_adstock(x, alpha, l_max=L):
--     adstocked[t] = sum_{l=0}^{L-1} alpha^l * spend[t - l]   (no history before the first week)
-- Saturation: Hill in half-saturation form, as mediamix.transforms.hill(x, K, s):
--     saturated[t] = x^s / (x^s + K^s) = 1 / (1 + (K / x)^s), and 0 at x = 0.
-- Sums are taken over exact decimals (10 decimal places), so they do not depend on
-- the order rows arrive in and rebuilt tables are identical.
-- K defaults (empty in the seed) to the channel's mean adstocked spend over its
-- positive weeks in all geos. Weeks missing between a series' first and last week
-- count as zero spend (the join is on dates, not row positions).
with weekly as (
    select week_start, geo, channel, spend from {{ ref('int_performance_agg') }}
),

channels as (
    select distinct channel from weekly
),

params as (
    select
        c.channel,
        coalesce(p.alpha, d.alpha) as alpha,
        coalesce(p.l_max, d.l_max) as l_max,
        coalesce(p.half_saturation, d.half_saturation) as half_saturation,
        coalesce(p.slope, d.slope) as slope
    from channels c
    left join {{ ref('media_transform_params') }} p on p.channel = c.channel
    cross join (
        select alpha, l_max, half_saturation, slope
        from {{ ref('media_transform_params') }}
        where channel = '__default__'
    ) d
),

weeks as (
    select week_start, row_number() over (order by week_start) - 1 as week_index
    from (select distinct week_start from weekly) w
),

lags as (
    select week_index as lag from weeks
    where week_index < (select max(l_max) from params)
),

adstocked as (
    select
        a.week_start,
        a.geo,
        a.channel,
        {{ dbt.safe_cast(
            'sum(' ~ dbt.safe_cast('b.spend * power(p.alpha, l.lag)', type_exact()) ~ ')',
            type_double()) }} as adstocked_spend
    from weekly a
    inner join params p on p.channel = a.channel
    inner join lags l on l.lag < p.l_max
    inner join weekly b
        on b.geo = a.geo
       and b.channel = a.channel
       and b.week_start = {{ dbt.dateadd('day', '-7 * l.lag', 'a.week_start') }}
    group by a.week_start, a.geo, a.channel
),

scale as (
    select channel, {{ dbt.safe_cast('avg(' ~ dbt.safe_cast('adstocked_spend', type_exact()) ~ ')', type_double()) }} as mean_adstocked
    from adstocked
    where adstocked_spend > 0
    group by channel
)

select
    s.week_start,
    s.geo,
    s.channel,
    w.spend,
    s.adstocked_spend,
    p.alpha,
    p.l_max,
    coalesce(p.half_saturation, k.mean_adstocked) as half_saturation,
    p.slope,
    case
        when s.adstocked_spend <= 0 then 0.0
        else 1.0 / (1.0 + power(coalesce(p.half_saturation, k.mean_adstocked) / s.adstocked_spend, p.slope))
    end as saturated
from adstocked s
inner join weekly w on w.week_start = s.week_start and w.geo = s.geo and w.channel = s.channel
inner join params p on p.channel = s.channel
left join scale k on k.channel = s.channel
