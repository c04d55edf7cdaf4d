-- The account address its owner proved to read (issue 15): the signed link mailed to it from
-- the account page sets it (store/library.py, web/verify_email.py). The digest's "For you"
-- section goes to a subscriber only from an account whose verified address is its current
-- address and the subscriber's; changing the address needs a new proof. NULL: not verified.
-- The same column as migrations/postgres/0017_verified_email.sql.
ALTER TABLE users ADD COLUMN verified_email TEXT;
