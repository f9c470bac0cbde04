def test_readme_examples_run(run_readme):
    run_readme(__file__)
