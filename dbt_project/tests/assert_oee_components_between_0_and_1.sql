-- OEE and its components are shares of time or parts: never below 0, never above 1 (performance is
-- capped at var('performance_cap')). Checked on machine and line rows; returns offending rows.
{{ config(meta={'dagster': {'ref': {'name': 'fct_line_kpis_daily'}}}) }}
{%- set cap = var('performance_cap') %}

with

kpis as (

    select 'machine' as level, machine_id as resource_id, date, availability, performance, quality, oee
    from {{ ref('fct_machine_kpis_daily') }}
    union all
    select 'line' as level, line_id as resource_id, date, availability, performance, quality, oee
    from {{ ref('fct_line_kpis_daily') }}

),

final as (

    select * from kpis
    where availability not between 0 and 1
        or performance not between 0 and {{ cap }}
        or quality not between 0 and 1
        or oee not between 0 and 1
        or oee > availability + 1e-9

)

select * from final
