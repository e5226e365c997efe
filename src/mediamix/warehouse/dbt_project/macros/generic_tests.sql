{% test unique_grain(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test non_negative(model, column_name) %}
    select * from {{ model }} where {{ column_name }} < 0
{% endtest %}

{% test no_missing_weeks(model, column_name, partition_by) %}
    {#- every partition must have one row per week from its first to its last week -#}
    select {{ partition_by | join(', ') }},
           count(distinct {{ column_name }}) as n_weeks,
           min({{ column_name }}) as first_week,
           max({{ column_name }}) as last_week
    from {{ model }}
    group by {{ partition_by | join(', ') }}
    having count(distinct {{ column_name }})
        <> {{ dbt.datediff('min(' ~ column_name ~ ')', 'max(' ~ column_name ~ ')', 'day') }} / 7 + 1
{% endtest %}
