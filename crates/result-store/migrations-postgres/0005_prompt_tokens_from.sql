-- Where a result's prompt token count came from: `response` (the server's
-- usage or timings in the answer itself) or `count request` (a one-token,
-- non-streamed request with the same messages, for servers whose streams
-- carry no usage). NULL when no count is known.
ALTER TABLE results ADD COLUMN prompt_tokens_from TEXT;
