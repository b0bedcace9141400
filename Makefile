# Shortcuts for the README's commands.
.PHONY: test test-pure test-odoo demo lint bench

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

# Refund import benchmark (needs Odoo and PostgreSQL; writes test-results/bench.json).
bench:
	bash -c 'source tools/lib.sh && py=$$(find_odoo_python) && "$$py" tools/bench_import.py'
