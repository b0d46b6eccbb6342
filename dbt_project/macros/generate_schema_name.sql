{#- Use the custom schema as is (staging, intermediate, marts) so DuckDB schemas equal the
    Dagster asset-key prefixes; models without one land in the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
