"""Writing a set: audio, manifest, RTTM/CTM, stems, dataset card."""
