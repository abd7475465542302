"""Sources: where Rempart looks for copies. One module per kind (web sites, Telegram exports,
folders and archives, WARC/WACZ files); each yields candidates (media bytes in memory with
where they were seen) and problems, through one interface (base.py)."""
