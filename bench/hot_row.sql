-- Ceiling: the cheapest possible write on one hot row (what every drop claim must at least do).
UPDATE bench.hot_row SET n = n + 1 WHERE id = 1;
