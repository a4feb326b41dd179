-- An API key may be bound to one reviewer (a staff user): a decision on an appeal made
-- with the key is that person's, and a key without a reviewer cannot decide.

ALTER TABLE api_keys ADD COLUMN reviewer_id TEXT REFERENCES staff_users (id);
