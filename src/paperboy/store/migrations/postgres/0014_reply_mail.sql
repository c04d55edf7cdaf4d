-- Mail to a discussion's commenters on replies (docs/mail.md "Reply notices"; store/replies.py).
-- The same tables as migrations/sqlite/0014_reply_mail.sql.
-- The address a user confirmed for reply notices (the signed link in the opt-in mail);
-- NULL: no reply mail (the default, and after an unsubscribe).
ALTER TABLE users ADD COLUMN reply_mail_to TEXT;

-- One row per reply and recipient, written in the transaction that stores the reply: the
-- primary key makes each notice exist once, and the status makes it go out at most once.
CREATE TABLE reply_mails (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,   -- the reply
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,      -- the recipient
    status     TEXT NOT NULL DEFAULT 'queued',  -- queued, sending, sent, failed, dropped
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_at     TEXT NOT NULL,                   -- not tried again before this (deferred mail)
    sent_at    TEXT,
    error      TEXT,
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX reply_mails_due ON reply_mails (status, due_at);
