"""The workspace: experiment records, git store, results.tsv, bisect, the dashboard."""
