-- 012_part_crc: the CRC-64 of each checkpointed part (CRC-64/XZ, what COS
-- and OSS call crc64ecma), so that a resumed upload checks the completed
-- object's CRC against its parts' too. The unsigned value is kept as the
-- same 64 bits in a bigint (values above 2^63 read as negative):
-- crc64::numeric + CASE WHEN crc64 < 0 THEN 18446744073709551616 ELSE 0 END is
-- the store's decimal form. NULL: sent by a version that did not keep it.
ALTER TABLE upload_parts ADD COLUMN crc64 bigint;
