"""Spontaneous-speech behavior per talker (``scene -> behavior -> render``): restarts, partial words,
repetitions, hesitations and real fillers, drawn in the plan (:mod:`.draw`), placed by render
(:mod:`.place`) and labeled as events; ``behavior=none`` changes nothing."""
