-- cards: the trigger that makes cards from missed questions fires only for
-- an attempt with a question answered wrong. Most attempts of a learner who
-- knows the material have none, and calling the function for them cost a
-- quarter of the database's time per submit (pgbench of the submit insert,
-- prepared, four clients: 2.7k/s with the call, 3.6k/s without).
-- An attempt stores right or wrong by position (booleans); rows written
-- before that held one object per question, matched too.
DROP TRIGGER submissions_make_cards ON submissions;
CREATE TRIGGER submissions_make_cards AFTER INSERT ON submissions
	FOR EACH ROW
	WHEN (NEW.results @> '[false]'::jsonb OR NEW.results @> '[{"is_correct": false}]'::jsonb)
	EXECUTE FUNCTION cards_from_submission();
