{#- Rows where a column whose name ends with one of `suffixes` is below `min_value` (nulls pass). For
    column sets that depend on the data, e.g. the signal-named feature columns: the columns are looked
    up in the built relation, so a plant without any such column passes trivially. -#}
{% test columns_ending_with_at_least(model, suffixes, min_value=0) %}

{%- set checked = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- for suffix in suffixes -%}
            {%- if column.name.endswith(suffix) and column.name not in checked -%}
                {%- do checked.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

select *
from {{ model }}
where false
{%- for column in checked %}
    or {{ adapter.quote(column) }} < {{ min_value }}
{%- endfor %}

{% endtest %}
