DROP TABLE proof_checks;
