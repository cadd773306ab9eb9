"""Where Rapport keeps things (paths) and reading and writing files a user names, safely
(regular files only, size limits, no link followed out of the folder)."""
