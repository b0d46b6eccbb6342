-- ISO 22400-2 KPIs per machine and per line per day (DESIGN §3.4): the machine rows and the line
-- rows (machine_id null) of the KPI marts, in the published column list plus two documented
-- extensions (kpi_note, publication_id; see data_contracts/published/kpi_daily.yml).
with

machine_kpis as (

    select * from {{ ref('fct_machine_kpis_daily') }}

),

line_kpis as (

    select * from {{ ref('fct_line_kpis_daily') }}

),

{% set kpi_columns = [
    'availability', 'performance', 'quality', 'oee', 'planned_busy_hours', 'production_hours',
    'unplanned_downtime_hours', 'produced_qty', 'good_qty', 'mtbf_hours', 'mttr_hours',
    'energy_kwh_per_unit', 'first_pass_yield', 'scrap_rate', 'data_completeness',
] %}

unioned as (

    select
        site_id, line_id, machine_id, date,
        {% for column in kpi_columns %}{{ column }}, {% endfor %}
        kpi_note,
    from machine_kpis

    union all by name

    select
        site_id, line_id, cast(null as varchar) as machine_id, date,
        {% for column in kpi_columns %}{{ column }}, {% endfor %}
        kpi_note,
    from line_kpis

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(line_id as varchar) as line_id,
        cast(machine_id as varchar) as machine_id,
        cast(date as date) as date,
        {% for column in kpi_columns %}
        cast({{ column }} as double) as {{ column }},
        {% endfor %}
        cast(kpi_note as varchar) as kpi_note,
        -- Stamped by the publication step.
        cast(null as varchar) as publication_id,
    from unioned

)

select * from final
