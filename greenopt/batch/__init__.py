"""Corpus analysis behind `greenopt analyze`: static only, parallel, resumable.

discovery (files, .gitignore, excludes, symlink loops) -> runner (read, hash, cache)
-> local / dask_executor (the per-file `file_analysis.analyze_source`: decoding,
python2, screening, pruning, passes, features, prediction, time_limit) -> results
(SQLite) -> exports (csv/parquet/json) and html_report (with charts).
"""
