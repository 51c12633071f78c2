"""The original readme's curl examples, run with curl against a real server.

Expected outputs are the readme's, with the spec's fixes: a refused request
prints nothing (its status is a real 4xx), and the read-only channel example
uses the true SHA-256 of its marker (the readme's hash is wrong)."""

import subprocess

import pytest

HASH_123 = "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b"
KEY = "e410f72ef5d487f68543eb898ac2e9d4ddfed0b824f28f481a63ea1dca8a383a"
SLOT = "7574284e16a554088122dcd49e69f96061965d7c599f834393b563fb31854c7f"
WRITE_CHANNEL = "4d43bb66fa84f38f2dd73b6b9b39aa3820f7d9ccaeda71416fcff326a4396a30"
WRITE_TARGET = "c63cd29b0514d989f36eefc57955bb4473e4f4e465d23741063a620a9ca07318"
READ_TARGET = "4355a46b19d348dc2f57c046f8ef63d4538ebb936000f3c9ee954a27460dd865"
READ_CHANNEL = "b8425da45a69a8ecb7e882e2fb6b6f008de5decb61d0d15e96af7271aab015d0"
LINK = "971dc2a3b9c2774f7b6d4fbb72984bd1407ca6cc2e9e1b7c581f6aaf4199918c"

# (command, expected stdout); $U is the server's URL.
TRANSCRIPT = [
    ("echo 123 | curl -s -X PUT --data-binary @- $U", f"/{HASH_123}.tig"),
    ("echo 123 | curl -s -X POST --data-binary @- $U", f"/{HASH_123}.tig"),
    (f"curl -s $U/{HASH_123}.tig", "123\n"),
    ("echo 123 | sha256sum | head -c 64", HASH_123),
    (f"curl -s -X DELETE $U/{HASH_123}.tig", ""),
    (f"curl -s $U/{HASH_123}.tig", "123\n"),
    (f"echo 245 | curl -s -X PUT --data-binary @- '$U/{HASH_123}.tig?format=http://127.0.0.1:7777*'", ""),
    (f"curl -s $U/{HASH_123}.tig", "123\n"),
    ("curl -s '$U/randomfileunauthorized'", ""),
    ("echo 123 | curl -s -X PUT --data-binary @- '$U?format=http://127.0.0.1:7777*'", f"http://127.0.0.1:7777/{HASH_123}.tig"),
    # Key-value pairs.
    (f"echo 123 | curl -s -X PUT --data-binary @- '$U/{KEY}.tig?format=http://127.0.0.1:7777*'", f"http://127.0.0.1:7777/{KEY}.tig"),
    (f"curl -s $U/{KEY}.tig", "123\n"),
    (f"echo 456 | curl -s -X PUT --data-binary @- '$U/{KEY}.tig?format=http://127.0.0.1:7777*'", f"http://127.0.0.1:7777/{KEY}.tig"),
    (f"curl -s $U/{KEY}.tig", "456\n"),
    (f"curl -s -X DELETE $U/{KEY}.tig", f"/{KEY}.tig"),
    (f"curl -s $U/{KEY}.tig", ""),
    (f"curl -s -X DELETE $U/{KEY}.tig", ""),
    (f"curl -s $U/{KEY}.tig", ""),
    # Bursts.
    ("printf abc | curl -s -X PUT --data-binary @- '$U?format=*' >$T/burst.txt; echo >>$T/burst.txt;"
     "printf def | curl -s -X PUT --data-binary @- '$U?format=*' >>$T/burst.txt; echo >>$T/burst.txt;"
     "printf ghi | curl -s -X PUT --data-binary @- '$U?format=*' >>$T/burst.txt; echo >>$T/burst.txt; cat $T/burst.txt",
     "/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.tig\n"
     "/cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b34.tig\n"
     "/50ae61e841fac4e8f9e40baf2ad36ec868922ea48368c18f9535e47db56dd7fb.tig\n"),
    ("cat $T/burst.txt | curl -s -X PUT --data-binary @- '$U?format=*'", "/1bc742e60c70acf19ff57998fb85e129a69396526a3c7fc114d2df4acb54248e.tig"),
    ("curl -s '$U/1bc742e60c70acf19ff57998fb85e129a69396526a3c7fc114d2df4acb54248e.tig'",
     "/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.tig\n"
     "/cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b34.tig\n"
     "/50ae61e841fac4e8f9e40baf2ad36ec868922ea48368c18f9535e47db56dd7fb.tig\n"),
    ("curl -s '$U/1bc742e60c70acf19ff57998fb85e129a69396526a3c7fc114d2df4acb54248e.tig?burst=1'", "abcdefghi"),
    # setifnot, append, take.
    (f"echo 123 | curl -s -X PUT --data-binary @- '$U/{SLOT}.tig?setifnot=1'", f"/{SLOT}.tig"),
    (f"echo 123 | curl -s -X PUT --data-binary @- '$U/{SLOT}.tig?setifnot=1'", ""),
    (f"echo We added one more file. | curl -s -X PUT --data-binary @- '$U/{SLOT}.tig?append=1'", f"/{SLOT}.tig"),
    (f"curl -s -X GET '$U/{SLOT}.tig'", "123\nWe added one more file.\n"),
    (f"curl -s -X GET '$U/{SLOT}.tig?take=1'", "123\nWe added one more file.\n"),
    (f"curl -s -X GET '$U/{SLOT}.tig'", ""),
    # A read-only block behind a mutable link, read with burst.
    ("echo This is a read-only block. | curl -s -X PUT --data-binary @- $U", "/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig"),
    (f"printf /abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig | curl -s -X PUT --data-binary @- '$U/{LINK}.tig'", f"/{LINK}.tig"),
    (f"curl -s '$U/{LINK}.tig'", "/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig"),
    (f"curl -s '$U/{LINK}.tig?burst=1'", "This is a read-only block.\n"),
    ("echo This is a second read-only block. | curl -s -X PUT --data-binary @- $U", "/29fed4c1dcde487e1216f525f4faf6e5c9d03fb4ae74b6f664684df5e228af3a.tig"),
    (f"printf /29fed4c1dcde487e1216f525f4faf6e5c9d03fb4ae74b6f664684df5e228af3a.tig | curl -s -X PUT --data-binary @- '$U/{LINK}.tig'", f"/{LINK}.tig"),
    (f"curl -s '$U/{LINK}.tig?burst=1'", "This is a second read-only block.\n"),
    ("echo This is a third read-only block. | curl -s -X PUT --data-binary @- '$U/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig'", ""),
    ("curl -s '$U/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig'", "This is a read-only block.\n"),
    ("curl -s -X DELETE '$U/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig'", ""),
    ("curl -s '$U/abb240c53a62c037d5997d3e0db5aa9d30a6e2264b50f32bb01c253b27523948.tig'", "This is a read-only block.\n"),
    # A write-only channel.
    (f"printf 'Write only channel to tig /{WRITE_TARGET}.tig' | curl -s -X PUT --data-binary @- '$U/{WRITE_CHANNEL}.tig'", f"/{WRITE_CHANNEL}.tig"),
    (f"printf written | curl -s -X PUT --data-binary @- '$U/{WRITE_CHANNEL}.tig?append=1'", f"/{WRITE_CHANNEL}.tig"),
    (f"printf written | curl -s -X PUT --data-binary @- '$U/{WRITE_CHANNEL}.tig?append=1'", f"/{WRITE_CHANNEL}.tig"),
    (f"curl -s '$U/{WRITE_TARGET}.tig'", "writtenwritten"),
    (f"curl -s '$U/{WRITE_CHANNEL}.tig'", ""),
    # A read-only channel.
    (f"printf 'Read only channel to tig /{READ_TARGET}.tig' | curl -s -X PUT --data-binary @- $U", f"/{READ_CHANNEL}.tig"),
    (f"printf written | curl -s -X PUT --data-binary @- '$U/{READ_TARGET}.tig'", f"/{READ_TARGET}.tig"),
    (f"curl -s '$U/{READ_TARGET}.tig'", "written"),
    (f"curl -s '$U/{READ_CHANNEL}.tig'", "written"),
    (f"printf 'written to read-only channel' | curl -s -X PUT --data-binary @- '$U/{READ_CHANNEL}.tig'", ""),
    (f"curl -s '$U/{READ_CHANNEL}.tig'", "written"),
]


def test_readme_transcript(tig, tmp_path):
    for command, expected in TRANSCRIPT:
        script = command.replace("$U", tig.url).replace("$T", str(tmp_path))
        result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout == expected, command


@pytest.mark.parametrize("command, status", [
    (f"curl -s -o /dev/null -w '%{{http_code}}' -X DELETE $U/{HASH_123}.tig", "409"),
    (f"echo 245 | curl -s -o /dev/null -w '%{{http_code}}' -X PUT --data-binary @- '$U/{HASH_123}.tig'", "409"),
    ("curl -s -o /dev/null -w '%{http_code}' '$U/randomfileunauthorized'", "404"),
    (f"curl -s -o /dev/null -w '%{{http_code}}' $U/{KEY}.tig", "404"),
])
def test_refusals_print_nothing_but_have_real_statuses(tig, command, status):
    subprocess.run(["bash", "-c", f"echo 123 | curl -s -X PUT --data-binary @- {tig.url}"], check=True, capture_output=True)
    result = subprocess.run(["bash", "-c", command.replace("$U", tig.url)], capture_output=True, text=True, timeout=30)
    assert result.stdout == status


def test_listing_with_the_api_key_as_in_the_early_readme(tmp_path):
    # The early readme used `curl -T FILE URL/`, which makes curl append the
    # file name to the path (`/test`), a path the spec refuses; `--data-binary
    # @FILE` sends the same bytes to `/`.
    from .server import TigProcess
    with TigProcess() as tig:
        (tig.data / "apikey").write_text("abc\n")
        (tig.data / "apikey").chmod(0o600)
        test_file = tmp_path / "test"
        test_file.write_text("test\n")
        script = f"""
            curl -s -X PUT '{tig.url}/?apikey=abc' --data-binary @{test_file}; echo
            curl -s -X POST '{tig.url}/?apikey=abc' --data-binary @{test_file}; echo
            curl -s '{tig.admin_url}/?apikey=abc'
            curl -s {tig.url}/f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2.tig
            curl -s -o /dev/null -w '%{{http_code}}' -X PUT '{tig.url}/?apikey=wrong' --data-binary @{test_file}
        """
        result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        path = "/f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2.tig"
        assert result.stdout == f"{path}\n{path}\n{path}\ntest\n401"
        assert tig.block_files() == [path[1:]]
