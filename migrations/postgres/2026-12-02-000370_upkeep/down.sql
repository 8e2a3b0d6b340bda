DROP TABLE upkeep_rules;
DROP TABLE upkeep_handovers;
