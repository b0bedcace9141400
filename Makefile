# Shortcuts for the README's commands.
.PHONY: test test-pure test-odoo demo lint bench

test:
	dev/test

test-pure:
	dev/test --pure

test-odoo:
	dev/test --odoo

demo:
	dev/demo

lint:
	pre-commit run --all-files

# Refund import benchmark (needs Odoo and PostgreSQL; writes test-results/bench.json).
bench:
	bash -c 'source dev/lib.sh && py=$$(find_odoo_python) && "$$py" dev/bench_import.py'
