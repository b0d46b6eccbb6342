"""The `twin` command: commands, in-process runs, the UI processes, the summary, user errors."""
