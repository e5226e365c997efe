{# Portable helpers: plain SQL or dbt's cross-database macros only. #}

{% macro safe_divide(numerator, denominator) -%}
    {#- a float quotient on every engine: DuckDB divides decimals as doubles, while Spark
        keeps a decimal and cuts it to 6 places once the precision runs out -#}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else {{ dbt.safe_cast('(' ~ numerator ~ ')', type_double()) }}
              / {{ dbt.safe_cast('(' ~ denominator ~ ')', type_double()) }} end
{%- endmacro %}

{% macro exact_mean(expression) -%}
    {#- the mean over a decimal sum: exact whatever the order rows are summed in, and the
        same double on every engine (Spark's avg of a decimal keeps only 4 more places) -#}
    {{ safe_divide(dbt.safe_cast('sum(' ~ dbt.safe_cast(expression, dbt.type_numeric()) ~ ')', type_double()),
                   'count(' ~ expression ~ ')') }}
{%- endmacro %}

{% macro week_start(column) -%}
    cast({{ dbt.date_trunc('week', column) }} as date)
{%- endmacro %}

{% macro latest_per_grain(relation, grain) -%}
    {#- keep the row of the most recent load when two loads cover the same grain -#}
    select * from (
        select r.*, row_number() over (
            partition by {{ grain | join(', ') }}
            order by l.loaded_at desc, r.load_id desc
        ) as _rank
        from {{ relation }} r
        left join (
            select load_id, source, source_account, max(loaded_at) as loaded_at
            from {{ source('raw', 'load_log') }}
            group by load_id, source, source_account
        ) l
          on l.load_id = r.load_id
         and l.source = r.source
         and l.source_account = r.source_account
    ) ranked
    where _rank = 1
{%- endmacro %}

{% macro mmm_kpi_name() -%}
    {#- the KPI the marts carry: var('mmm_kpi'), else the most frequent KPI name -#}
    {%- if var('mmm_kpi', none) -%}
        {{ var('mmm_kpi') }}
    {%- elif execute -%}
        {%- set found = run_query(
            "select kpi_name from " ~ ref('stg_revenue')
            ~ " group by kpi_name order by count(*) desc, kpi_name limit 1") -%}
        {{ found.columns[0].values()[0] if found.rows | length > 0 else '' }}
    {%- endif -%}
{%- endmacro %}

{% macro external_factors() -%}
    {#- (name, kind) of every baseline driver, known once staging is built -#}
    {%- if execute -%}
        {%- set found = run_query(
            "select factor_name, min(factor_kind) from " ~ ref('stg_external_factors')
            ~ " group by factor_name order by factor_name") -%}
        {{ return(found.rows | list) }}
    {%- else -%}
        {{ return([]) }}
    {%- endif -%}
{%- endmacro %}

{% macro type_double() -%}
    {#- 64-bit float: dbt.type_float() is 32-bit REAL on DuckDB, too coarse for money -#}
    {{ return(adapter.dispatch('type_double', 'mediamix')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro duckdb__type_double() -%}double{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}
{% macro databricks__type_double() -%}double{%- endmacro %}
{% macro bigquery__type_double() -%}float64{%- endmacro %}

{% macro type_exact() -%}
    {#- exact decimal for sums that must not depend on the order rows arrive in -#}
    {{ return(adapter.dispatch('type_exact', 'mediamix')()) }}
{%- endmacro %}

{% macro default__type_exact() -%}numeric(38, 10){%- endmacro %}
{% macro spark__type_exact() -%}decimal(38, 10){%- endmacro %}
{% macro databricks__type_exact() -%}decimal(38, 10){%- endmacro %}
{% macro bigquery__type_exact() -%}bignumeric{%- endmacro %}
