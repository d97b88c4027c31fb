"""Rooms: measured impulse responses, pyroomacoustics shoebox simulation, and their measurement."""
