{#- The machine statement (fct_machine_kpis_daily, last part of its kpi_note) and the line's. -#}
{%- set no_sensors_note = 'no sensors declared: data completeness not applicable' -%}
{%- set no_sensors_line_note = 'no sensors declared on any machine of the line: data completeness not applicable' -%}

with

machine_kpis as (

    select * from {{ ref('fct_machine_kpis_daily') }}

),

machines as (

    select * from {{ ref('dim_machines') }}

),

reliability as (

    select * from {{ ref('int_machine_reliability_daily') }}

),

-- A serial line's output is its last machine in flow order: the line's OEE, time elements and
-- quantities are those of that machine. Upstream losses reach it as starvation (IDLE inside planned
-- busy time), so they lower the line's availability without being counted twice.
output_machine_days as (

    select
        machine_kpis.*,
        -- Its notes without its no-sensors statement: the line states its completeness itself.
        nullif(
            regexp_replace(coalesce(machine_kpis.kpi_note, ''), '(; )?{{ no_sensors_note }}$', ''),
            ''
        ) as output_machine_kpi_note,
    from machine_kpis
    inner join machines
        on machines.machine_id = machine_kpis.machine_id
    where machines.is_line_output

),

-- A station's yield: its machine's first-pass yield, or for machines in parallel at one step
-- (a plant model `station`) the share of good parts over what they made together, so a part is
-- counted at the one machine that made it, not once per machine of the station.
station_yields as (

    select
        machine_kpis.line_id,
        machine_kpis.date,
        machines.station_id,
        count(*) as machine_count,
        count(machine_kpis.first_pass_yield) as machines_with_yield,
        case
            when count(*) = 1 then max(machine_kpis.first_pass_yield)
            else sum(machine_kpis.good_qty) / nullif(sum(machine_kpis.produced_qty), 0)
        end as station_yield,
    from machine_kpis
    inner join machines
        on machines.machine_id = machine_kpis.machine_id
    group by machine_kpis.line_id, machine_kpis.date, machines.station_id

),

line_yields as (

    select
        line_id,
        date,
        sum(machine_count) as machine_count,
        sum(machines_with_yield) as machines_with_yield,
        product(station_yield) as rolled_yield,
    from station_yields
    group by line_id, date

),

-- Yield, energy and completeness involve every machine of the line. First-pass yield is the rolled
-- throughput yield (product of the stations' yields, i.e. scrap anywhere on the line), known only
-- when every machine has counts. Completeness is the mean over the machines that declare tags
-- (avg skips the nulls of machines without sensors); null and stated not applicable when none does.
line_rollup as (

    select
        machine_kpis.line_id,
        machine_kpis.date,
        any_value(line_yields.machine_count) as machine_count,
        any_value(line_yields.machines_with_yield) as machines_with_yield,
        any_value(line_yields.rolled_yield) as rolled_yield,
        sum(machine_kpis.energy_kwh) as energy_kwh,
        avg(machine_kpis.data_completeness) as data_completeness,
        bool_or(machine_kpis.has_tags) as any_machine_has_tags,
    from machine_kpis
    inner join line_yields
        on line_yields.line_id = machine_kpis.line_id
        and line_yields.date = machine_kpis.date
    group by machine_kpis.line_id, machine_kpis.date

),

-- A failure of any machine stops a serial line: line MTBF = (window hours - repair hours of all its
-- machines) / all their failures; MTTR = mean repair time over all its machines' closed repairs.
line_reliability as (

    select
        machines.line_id,
        reliability.date,
        max(reliability.window_hours) as window_hours,
        sum(reliability.failure_count) as failure_count,
        sum(reliability.repair_downtime_hours) as repair_downtime_hours,
        sum(reliability.closed_repair_count) as closed_repair_count,
        sum(reliability.closed_repair_hours) as closed_repair_hours,
    from reliability
    inner join machines
        on machines.machine_id = reliability.machine_id
    group by machines.line_id, reliability.date

),

final as (

    select
        output_machine_days.site_id,
        output_machine_days.line_id,
        cast(null as varchar) as machine_id,
        output_machine_days.date,
        output_machine_days.availability,
        output_machine_days.performance,
        output_machine_days.quality,
        output_machine_days.oee,
        output_machine_days.calendar_hours,
        output_machine_days.planned_busy_hours,
        output_machine_days.production_hours,
        output_machine_days.idle_hours,
        output_machine_days.setup_hours,
        output_machine_days.unplanned_downtime_hours,
        output_machine_days.planned_downtime_hours,
        output_machine_days.produced_qty,
        output_machine_days.good_qty,
        output_machine_days.scrap_qty,
        {{ round_kpi(safe_divide(
            'greatest(line_reliability.window_hours - line_reliability.repair_downtime_hours, 0)',
            'line_reliability.failure_count'
        )) }} as mtbf_hours,
        {{ round_kpi(safe_divide(
            'line_reliability.closed_repair_hours', 'line_reliability.closed_repair_count'
        )) }} as mttr_hours,
        line_reliability.failure_count as failures_in_window,
        {{ round_kpi('line_rollup.energy_kwh') }} as energy_kwh,
        {{ round_kpi(safe_divide('line_rollup.energy_kwh', 'output_machine_days.produced_qty')) }}
            as energy_kwh_per_unit,
        case
            when line_rollup.machines_with_yield = line_rollup.machine_count
                then {{ round_kpi('line_rollup.rolled_yield') }}
        end as first_pass_yield,
        case
            when line_rollup.machines_with_yield = line_rollup.machine_count
                then {{ round_kpi('1 - line_rollup.rolled_yield') }}
        end as scrap_rate,
        case
            when line_rollup.any_machine_has_tags is distinct from false
                then {{ round_kpi('line_rollup.data_completeness') }}
        end as data_completeness,
        output_machine_days.machine_id as output_machine_id,
        nullif(concat_ws('; ',
            case
                when output_machine_days.output_machine_kpi_note is not null
                    then 'output machine ' || output_machine_days.machine_id || ': '
                        || output_machine_days.output_machine_kpi_note
            end,
            case
                when line_rollup.any_machine_has_tags = false then '{{ no_sensors_line_note }}'
            end,
            case
                when line_rollup.machines_with_yield < line_rollup.machine_count
                    then 'first-pass yield needs production counts from every machine of the line'
            end
        ), '') as kpi_note,
    from output_machine_days
    inner join line_rollup
        on line_rollup.line_id = output_machine_days.line_id
        and line_rollup.date = output_machine_days.date
    left join line_reliability
        on line_reliability.line_id = output_machine_days.line_id
        and line_reliability.date = output_machine_days.date

)

select * from final
