"""REFI-QDA exchange with NVivo, ATLAS.ti, MAXQDA, QualCoder and qc: projects and codebooks."""
