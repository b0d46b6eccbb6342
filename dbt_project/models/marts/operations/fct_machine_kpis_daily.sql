{%- set cap = var('performance_cap') -%}
{%- set window_days = var('reliability_window_days') -%}
{#- The statement on a machine without tags (DESIGN §3.2); fct_line_kpis_daily and the kpi_daily
    contract (data_contracts/published/kpi_daily.yml) rely on the words "data completeness not
    applicable". Keep it the last part of kpi_note. -#}
{%- set no_sensors_note = 'no sensors declared: data completeness not applicable' -%}

with

machine_days as (

    select * from {{ ref('int_machine_days') }}

),

state_pieces as (

    select * from {{ ref('int_machine_states_split_by_day') }}

),

production as (

    select * from {{ ref('int_production_counts_split_by_day') }}

),

tag_days as (

    select * from {{ ref('int_tag_completeness_daily') }}

),

reliability as (

    select * from {{ ref('int_machine_reliability_daily') }}

),

-- ISO 22400-2 time elements per machine-day from the (non-overlapping, day-split) MES states.
state_hours as (

    select
        machine_id,
        date,
        coalesce(sum(duration_hours) filter (where state = 'RUNNING'), 0) as running_hours,
        coalesce(sum(duration_hours) filter (where state = 'IDLE'), 0) as idle_hours,
        coalesce(sum(duration_hours) filter (where state = 'SETUP'), 0) as setup_hours,
        coalesce(sum(duration_hours) filter (where state = 'UNPLANNED_DOWNTIME'), 0) as unplanned_downtime_hours,
        coalesce(sum(duration_hours) filter (where state = 'PLANNED_DOWNTIME'), 0) as planned_downtime_hours,
        coalesce(sum(duration_hours) filter (where state = 'OFF'), 0) as off_hours,
    from state_pieces
    group by machine_id, date

),

production_daily as (

    select
        machine_id,
        date,
        sum(good_qty) as good_qty,
        sum(scrap_qty) as scrap_qty,
        sum(produced_qty) as produced_qty,
        sum(ideal_run_hours) as ideal_run_hours,
        count(*) filter (where ideal_cycle_time_s is null) as counts_without_cycle_time,
    from production
    group by machine_id, date

),

-- Completeness over all of the machine's tags, weighted by expected samples (a tag with no sample
-- counts 0); energy from its power tags (null when no power tag delivered a good sample that day).
-- A machine without tags has no rows here: its completeness is null and stated not applicable.
tag_daily as (

    select
        machine_id,
        date,
        {{ safe_divide('sum(least(good_samples, expected_samples))', 'sum(expected_samples)') }}
            as data_completeness,
        sum(energy_kwh) as energy_kwh,
    from tag_days
    group by machine_id, date

),

joined as (

    select
        machine_days.site_id,
        machine_days.line_id,
        machine_days.machine_id,
        machine_days.date,
        machine_days.day_hours,
        machine_days.has_tags,
        state_hours.machine_id is not null as has_states,
        production_daily.machine_id is not null as has_production,
        state_hours.running_hours,
        state_hours.idle_hours,
        state_hours.setup_hours,
        state_hours.unplanned_downtime_hours,
        state_hours.planned_downtime_hours,
        state_hours.off_hours,
        -- PBT: scheduled time minus planned downtime and OFF.
        state_hours.running_hours + state_hours.idle_hours + state_hours.setup_hours
            + state_hours.unplanned_downtime_hours as planned_busy_hours,
        production_daily.good_qty,
        production_daily.scrap_qty,
        production_daily.produced_qty,
        production_daily.ideal_run_hours,
        coalesce(production_daily.counts_without_cycle_time, 0) > 0 as has_missing_cycle_time,
        tag_daily.data_completeness,
        tag_daily.energy_kwh,
        reliability.failure_count,
        reliability.window_hours,
        reliability.repair_downtime_hours,
        reliability.closed_repair_count,
        reliability.closed_repair_hours,
    from machine_days
    left join state_hours
        on state_hours.machine_id = machine_days.machine_id
        and state_hours.date = machine_days.date
    left join production_daily
        on production_daily.machine_id = machine_days.machine_id
        and production_daily.date = machine_days.date
    left join tag_daily
        on tag_daily.machine_id = machine_days.machine_id
        and tag_daily.date = machine_days.date
    left join reliability
        on reliability.machine_id = machine_days.machine_id
        and reliability.date = machine_days.date

),

-- Quantities: with no production counts they are unknown (null), except on a day the MES states
-- show the machine never ran, where nothing can have been produced (0).
quantities as (

    select
        *,
        case
            when has_production then produced_qty
            when has_states and running_hours = 0 then 0
        end as produced_qty_known,
        case
            when has_production then good_qty
            when has_states and running_hours = 0 then 0
        end as good_qty_known,
        case
            when has_production then scrap_qty
            when has_states and running_hours = 0 then 0
        end as scrap_qty_known,
    from joined

),

-- Unrounded ISO 22400 ratios. Availability needs states; performance needs states, counts and an
-- ideal cycle time for every product made; quality needs counts only.
ratios as (

    select
        *,
        case when has_states then {{ safe_divide('running_hours', 'planned_busy_hours') }} end
            as availability_raw,
        case
            when has_states and has_production and not has_missing_cycle_time
                then {{ safe_divide('ideal_run_hours', 'running_hours') }}
        end as performance_raw,
        {{ safe_divide('good_qty_known', 'produced_qty_known') }} as quality_raw,
    from quantities

),

kpis as (

    select
        *,
        -- least() ignores nulls in DuckDB: keep an unknown performance unknown.
        case when performance_raw is not null then least(performance_raw, {{ cap }}) end
            as performance_capped,
        -- A machine that never ran during planned busy time has OEE 0 even though performance is
        -- undefined (0/0); otherwise OEE needs all three components.
        case
            when availability_raw = 0 then 0
            else availability_raw
                * case when performance_raw is not null then least(performance_raw, {{ cap }}) end
                * coalesce(quality_raw, case when performance_raw = 0 then 1 end)
        end as oee_raw,
    from ratios

),

final as (

    select
        site_id,
        line_id,
        machine_id,
        date,
        {{ round_kpi('availability_raw') }} as availability,
        {{ round_kpi('performance_capped') }} as performance,
        {{ round_kpi('quality_raw') }} as quality,
        {{ round_kpi('oee_raw') }} as oee,
        {{ round_kpi('day_hours') }} as calendar_hours,
        {{ round_kpi('planned_busy_hours') }} as planned_busy_hours,
        {{ round_kpi('running_hours') }} as production_hours,
        {{ round_kpi('idle_hours') }} as idle_hours,
        {{ round_kpi('setup_hours') }} as setup_hours,
        {{ round_kpi('unplanned_downtime_hours') }} as unplanned_downtime_hours,
        {{ round_kpi('planned_downtime_hours') }} as planned_downtime_hours,
        round(produced_qty_known, 3) as produced_qty,
        round(good_qty_known, 3) as good_qty,
        round(scrap_qty_known, 3) as scrap_qty,
        {{ round_kpi(safe_divide('window_hours - repair_downtime_hours', 'failure_count')) }}
            as mtbf_hours,
        {{ round_kpi(safe_divide('closed_repair_hours', 'closed_repair_count')) }} as mttr_hours,
        failure_count as failures_in_window,
        {{ round_kpi('energy_kwh') }} as energy_kwh,
        {{ round_kpi(safe_divide('energy_kwh', 'produced_qty_known')) }} as energy_kwh_per_unit,
        -- Every part is counted once, at its first pass: first-pass yield = good / (good + scrap).
        {{ round_kpi('quality_raw') }} as first_pass_yield,
        {{ round_kpi(safe_divide('scrap_qty_known', 'produced_qty_known')) }} as scrap_rate,
        case when has_tags is distinct from false then {{ round_kpi('data_completeness') }} end
            as data_completeness,
        has_tags,
        nullif(concat_ws('; ',
            case when not has_states then 'no MES state data for this day' end,
            case
                when has_states and planned_busy_hours = 0
                    then 'no planned busy time (off or in planned downtime all day)'
            end,
            case
                when produced_qty_known is null then 'no MES production counts for this day'
            end,
            case
                when has_production and has_missing_cycle_time
                    then 'no ideal cycle time for a product made this day'
            end,
            case
                when performance_raw > {{ cap }}
                    then 'performance above {{ cap * 100 }} % capped (check ideal cycle times)'
            end,
            case when energy_kwh is null then 'no power readings for this day' end,
            case
                when failure_count = 0
                    then 'no corrective failure in the trailing {{ window_days }} days (MTBF undefined)'
            end,
            case when has_tags = false then '{{ no_sensors_note }}' end
        ), '') as kpi_note,
    from kpis

)

select * from final
