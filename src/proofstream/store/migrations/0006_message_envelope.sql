-- What a device signed when it is not the message's own digest: a W3bStream message's request and signature
-- (domain/w3bstream.py, "envelope"), kept so that an attester or an auditor can check the signature again.
ALTER TABLE messages ADD COLUMN envelope TEXT;
