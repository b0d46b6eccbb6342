-- Bottleneck ranking per line, scenario and bucket (DESIGN §3.4), as the scenario engine wrote it.
with

constraint_runs as (

    select * from {{ source('simulation_output', 'constraint_map') }}

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(line_id as varchar) as line_id,
        cast(scenario_id as varchar) as scenario_id,
        cast(bucket_grain as varchar) as bucket_grain,
        cast(bucket_start as date) as bucket_start,
        cast(bucket_end as date) as bucket_end,
        cast(machine_id as varchar) as machine_id,
        cast(bottleneck_share as double) as bottleneck_share,
        cast(rank as integer) as rank,
        -- Stamped by the publication step.
        cast(null as varchar) as publication_id,
    from constraint_runs

)

select * from final
