"""Operations: the evaluation worker's loop, resuming interviews, data rights, metrics and webhooks."""
