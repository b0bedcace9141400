# Shortcuts for the README's commands.
.PHONY: test test-pure test-odoo demo lint

test:
	tools/test

test-pure:
	tools/test --pure

test-odoo:
	tools/test --odoo

demo:
	tools/demo

lint:
	pre-commit run --all-files
