-- Failure risk per machine at the latest data time (DESIGN §3.4). The scoring step writes one file;
-- the latest as_of per machine wins should it ever hold older scores too.
with

scores as (

    select * from {{ source('ml_output', 'machine_failure_risk') }}

),

latest_scores as (

    select *
    from scores
    qualify row_number() over (partition by site_id, machine_id order by as_of desc) = 1

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(machine_id as varchar) as machine_id,
        cast(as_of as timestamp) as as_of,
        cast(p_failure_72h as double) as p_failure_72h,
        cast(hours_to_failure_p10 as double) as hours_to_failure_p10,
        cast(hours_to_failure_p50 as double) as hours_to_failure_p50,
        cast(hours_to_failure_p90 as double) as hours_to_failure_p90,
        cast(failure_mode as varchar) as failure_mode,
        cast(model_version as varchar) as model_version,
        -- Stamped by the publication step.
        cast(null as varchar) as publication_id,
    from latest_scores

)

select * from final
