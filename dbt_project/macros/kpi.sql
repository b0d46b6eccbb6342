{#- KPI arithmetic shared by the machine and line marts. Ratios are stored rounded to 4 decimals
    (0.01 %), hours to 4 decimals (0.36 s); OEE is computed from the unrounded components. -#}

{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }}) / nullif(({{ denominator }}), 0))
{%- endmacro %}

{% macro round_kpi(expression) -%}
    round(({{ expression }}), 4)
{%- endmacro %}
