# a few commands as people type them
curl -sSL -X PUT "http://127.0.0.1:8080/users/42" -u admin:s3cret \
     -H "Content-Type: application/json" -d "{\"name\": \"Ada\", \"tags\": [\"a\", \"b\"], \"active\": true, \"score\": null}"
curl -G http://127.0.0.1:8080/search -d q=load+test --data-urlencode 'where=a & b' -A surge-doc -e http://127.0.0.1:8080/
curl -I --http2 http://127.0.0.1:8080/health && curl -k --json '{"ping":1}' https://127.0.0.1:8443/ping
curl 127.0.0.1:8080/upload -d 'raw text, not a form' -H 'X-Empty;'
curl --url 'http://127.0.0.1:8080/a%7B%7Bb%7D%7D?x={{y}}' -XDELETE
