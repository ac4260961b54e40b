"""DePIN projects: a developer's project folder (spec), and how proofstream builds, deploys and runs it."""
