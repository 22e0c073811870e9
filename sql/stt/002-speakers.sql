-- stt: the speakers' turns ([{speaker, start, end}]) when the engine labels
-- them (Amazon Transcribe); NULL from pocketsphinx.
ALTER TABLE transcriptions ADD COLUMN speakers jsonb;
