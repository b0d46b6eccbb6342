{#- The lake folder may not exist yet (nothing simulated or scored, and ensure_publish_inputs
    not run): read_parquet fails on a glob without matches, so build from an empty, typed input
    instead and let the publication's contract check decide. The source is referenced either way
    for lineage. -#}
{%- set input_source = source('simulation_output', 'constraint_map') -%}
{%- set input_glob = var('lake_root', var('twin_home', env_var('TWIN_HOME', 'data')) ~ '/lake') ~ '/simulation/constraint_map/*.parquet' -%}
{%- set input_has_files = execute
    and run_query("select count(*) from glob('" ~ input_glob ~ "')").columns[0].values()[0] > 0 -%}
-- Bottleneck ranking per line, scenario and bucket (DESIGN §3.4), as the scenario engine wrote it.
with

constraint_runs as (

    {% if input_has_files %}
    select * from {{ input_source }}
    {% else %}
    select
        cast(null as varchar) as site_id,
        cast(null as varchar) as line_id,
        cast(null as varchar) as scenario_id,
        cast(null as varchar) as bucket_grain,
        cast(null as date) as bucket_start,
        cast(null as date) as bucket_end,
        cast(null as varchar) as machine_id,
        cast(null as double) as bottleneck_share,
        cast(null as integer) as rank,
    where false
    {% endif %}

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
