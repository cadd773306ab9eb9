"""What facilitators and course designers write: scenario and rubric models (schema), YAML loading
and its plain-words checks, the generated field reference (docs), and Character Card import."""
