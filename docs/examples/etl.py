"""A small ETL flow with the two mistakes chat assistants most often suggest."""

from prefect import flow, task, wait


@task
def extract(source: str) -> list[int]:
    return [len(source), 2, 3]


@flow
def load(rows: list[int]) -> int:
    return sum(rows)


@flow
def etl(sources: list[str]) -> int:
    extracted = [extract.submit(source) for source in sources]
    wait(extracted)
    loads = [load.submit(future.result()) for future in extracted]
    return sum(future.result() for future in loads)


if __name__ == "__main__":
    print(etl(["a", "bb", "ccc"]))
