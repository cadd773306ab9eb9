"""The simulated colleague: its state (trust, mood, what it has revealed) and the engine that
chooses a beat, prompts the model, guards the candidates and picks the reply."""
