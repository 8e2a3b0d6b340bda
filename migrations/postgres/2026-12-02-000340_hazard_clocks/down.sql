DROP TABLE hazard_clock_events;
DROP TABLE hazard_clocks;
