//! Unit tests of scenario generation.

mod generation {
    use super::super::*;
    use alloc::vec;

    fn names() -> Vec<String> {
        named_tokens().into_keys().collect()
    }

    fn get(slot: u64) -> RawStep {
        RawStep::Step(Step::GetHelperTokenFlags {
            handle: HandleName::Number(slot),
            level: None,
        })
    }

    fn query(caller: &str, slot: u64) -> Step {
        Step::query_interface(caller, slot)
    }

    #[test]
    fn a_first_use_gets_a_query_whose_caller_depends_on_the_slot() {
        let names = names();
        for slot in 0..names.len() as u64 {
            let steps = fix_handles(vec![get(slot)], &names, &[]);
            assert_eq!(
                steps,
                [
                    query(&names[slot as usize], slot),
                    Step::GetHelperTokenFlags {
                        handle: HandleName::Number(slot),
                        level: None,
                    }
                ],
                "slot {slot}"
            );
        }
    }

    #[test]
    fn a_first_use_later_on_shifts_the_caller_by_its_position() {
        let names = names();
        // Position 2 (after the query of 1 and its use): the caller of 3's query is 3 + 2.
        let steps = fix_handles(vec![get(1), get(3)], &names, &[]);
        assert_eq!(steps[0], query(&names[1], 1));
        assert_eq!(steps[2], query(&names[5 % names.len()], 3));
        assert_eq!(steps.len(), 4, "{steps:?}");
    }

    #[test]
    fn a_defined_handle_is_not_queried_again_and_a_requery_takes_a_fresh_slot() {
        let names = names();
        let raw = vec![
            RawStep::Query {
                who: names[4].clone(),
                slot: 1,
            },
            get(1),
            RawStep::Query {
                who: names[0].clone(),
                slot: 1,
            },
            get(2),
        ];
        let steps = fix_handles(raw, &names, &[]);
        assert_eq!(
            steps,
            [
                query(&names[4], 1),
                Step::GetHelperTokenFlags {
                    handle: HandleName::Number(1),
                    level: None,
                },
                query(&names[0], 2),
                Step::GetHelperTokenFlags {
                    handle: HandleName::Number(2),
                    level: None,
                },
            ]
        );
    }
}

mod focus {
    use super::super::*;
    use alloc::vec;

    /// Two implicit queries in three go to the owner and the administrators, by position.
    #[test]
    fn implicit_callers_alternate_between_the_focus_and_every_name() {
        let names: Vec<String> = named_tokens().into_keys().collect();
        let focus = vec!["alice".to_string(), "admin".to_string()];
        let picked: Vec<String> = (0..6).map(|i| implicit_caller(&names, &focus, i)).collect();
        assert_eq!(picked[0], "alice");
        assert_eq!(picked[1], "admin");
        assert_eq!(picked[2], names[2]);
        assert_eq!(picked[3], "alice");
        assert_eq!(picked[4], "admin");
        assert_eq!(picked[5], names[5]);
    }

    /// The focus is the owner, then every administrator.
    #[test]
    fn the_focus_is_the_owner_and_the_administrators() {
        let mut s = Scenario::new("alice");
        s.tokens = named_tokens();
        let f = focus(&s);
        assert_eq!(f[0], "alice");
        assert!(f.contains(&"admin".to_string()) && f.contains(&"system".to_string()));
        assert!(!f.contains(&"bob".to_string()) && !f.contains(&"admin_filtered".to_string()));
    }
}
